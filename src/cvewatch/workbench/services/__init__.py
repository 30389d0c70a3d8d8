"""The workbench's services, one module per aggregate; callers import the module (the package re-exports nothing)."""
