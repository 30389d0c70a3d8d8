"""Write-side actions of the alerts app, one module per concern:

- notifications: create, delete, confirm and unsubscribe notifications, send a test;
- matching: turn recorded changes into Delivery rows (called in the changes' transaction);
- sending: claim due deliveries, send them through their channel, record the outcome, retry by hand;
- payloads: the contract's webhook body (pure functions).
"""
