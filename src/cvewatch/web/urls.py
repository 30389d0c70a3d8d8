"""Routes of the server-rendered web UI. No trailing slashes, like the API (APPEND_SLASH is off)."""

from django.urls import path

from cvewatch.web import views_accounts as accounts
from cvewatch.web import views_alerts as alerts
from cvewatch.web import views_catalog as catalog
from cvewatch.web import views_orgs as orgs
from cvewatch.web import views_projects as projects
from cvewatch.web import views_queries as queries
from cvewatch.web import views_tokens as tokens

app_name = "web"

urlpatterns = [
    # Accounts
    path("login", accounts.LoginView.as_view(), name="login"),
    path("logout", accounts.LogoutView.as_view(), name="logout"),
    path("signup", accounts.signup, name="signup"),
    path("account/verify-email", accounts.resend_verification, name="resend_verification"),
    path("account/verify-email/<str:token>", accounts.verify_email, name="verify_email"),
    path("account/password", accounts.PasswordChangeView.as_view(), name="password_change"),
    path("account/password/done", accounts.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password-reset", accounts.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent", accounts.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/complete",
        accounts.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "password-reset/<uidb64>/<token>",
        accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    # Catalog
    path("", catalog.dashboard, name="dashboard"),
    path("cve", catalog.cve_list, name="cve_list"),
    path("cve/<str:cve_id>", catalog.cve_detail, name="cve_detail"),
    path("vendors", catalog.vendor_list, name="vendor_list"),
    path("vendors/<path:name>", catalog.vendor_detail, name="vendor_detail"),
    # Organizations
    path("org/new", orgs.create_organization, name="org_create"),
    path("org/switch", orgs.switch_organization, name="org_switch"),
    path("org/<slug:org>/settings", orgs.organization_settings, name="org_settings"),
    path("org/<slug:org>/delete", orgs.delete_organization, name="org_delete"),
    path("org/<slug:org>/invitations", orgs.invite, name="org_invite"),
    path(
        "org/<slug:org>/invitations/<int:invitation_id>/revoke",
        orgs.revoke_invitation,
        name="invitation_revoke",
    ),
    path("org/<slug:org>/members/<int:user_id>/role", orgs.change_role, name="member_role"),
    path("org/<slug:org>/members/<int:user_id>/remove", orgs.remove_member, name="member_remove"),
    path("invitations/<str:token>", orgs.invitation, name="invitation"),
    # API tokens
    path("org/<slug:org>/tokens", tokens.token_list, name="token_list"),
    path("org/<slug:org>/tokens/<str:token_id>/revoke", tokens.token_revoke, name="token_revoke"),
    # Projects
    path("org/<slug:org>/projects", projects.project_list, name="project_list"),
    path("org/<slug:org>/new-project", projects.project_create, name="project_create"),
    path("org/<slug:org>/projects/<slug:project>", projects.project_detail, name="project_detail"),
    path("org/<slug:org>/projects/<slug:project>/edit", projects.project_edit, name="project_edit"),
    path("org/<slug:org>/projects/<slug:project>/active", projects.project_set_active, name="project_active"),
    path("org/<slug:org>/projects/<slug:project>/delete", projects.project_delete, name="project_delete"),
    path(
        "org/<slug:org>/projects/<slug:project>/search",
        projects.catalog_search,
        name="project_catalog_search",
    ),
    path("org/<slug:org>/projects/<slug:project>/subscribe", projects.subscribe, name="project_subscribe"),
    # Query subscriptions (lane q): a project watches what a query of the search language matches
    path(
        "org/<slug:org>/projects/<slug:project>/queries", queries.query_subscription_add, name="query_subscription_add"
    ),
    path(
        "org/<slug:org>/projects/<slug:project>/queries/<int:subscription_id>/remove",
        queries.query_subscription_remove,
        name="query_subscription_remove",
    ),
    path(
        "org/<slug:org>/projects/<slug:project>/unsubscribe", projects.unsubscribe, name="project_unsubscribe"
    ),
    # Alerts (wt-f): a project's notifications and its delivery log
    path("org/<slug:org>/projects/<slug:project>/notifications", alerts.notification_list, name="notification_list"),
    path(
        "org/<slug:org>/projects/<slug:project>/notifications/<str:name>/test",
        alerts.notification_test,
        name="notification_test",
    ),
    path(
        "org/<slug:org>/projects/<slug:project>/notifications/<str:name>/delete",
        alerts.notification_delete,
        name="notification_delete",
    ),
    path("org/<slug:org>/projects/<slug:project>/deliveries", alerts.delivery_log, name="delivery_log"),
    path("org/<slug:org>/projects/<slug:project>/report", alerts.daily_report, name="daily_report"),
    path(
        "org/<slug:org>/projects/<slug:project>/deliveries/<str:delivery_id>/retry",
        alerts.delivery_retry,
        name="delivery_retry",
    ),
]
