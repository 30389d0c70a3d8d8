"""Routes of the server-rendered web UI. No trailing slashes, like the API (APPEND_SLASH is off)."""

from django.urls import path, re_path

from cvewatch.web import views_accounts as accounts
from cvewatch.web import views_activity as activity
from cvewatch.web import views_alerts as alerts
from cvewatch.web import views_catalog as catalog
from cvewatch.web import views_dashboard as dashboard
from cvewatch.web import views_export as export
from cvewatch.web import views_feeds as feeds
from cvewatch.web import views_orgs as orgs
from cvewatch.web import views_projects as projects
from cvewatch.web import views_queries as queries
from cvewatch.web import views_saved as saved
from cvewatch.web import views_site as site
from cvewatch.web import views_tokens as tokens
from cvewatch.web import views_vendors as vendors
from cvewatch.web import views_weaknesses as weaknesses
from cvewatch.web import views_workbench as workbench

app_name = "web"

_KEY = r"(?P<key>[A-Za-z0-9]+\.[A-Za-z0-9]+)"  # a feed key, <key_id>.<secret>

urlpatterns = [
    path("favicon.ico", site.favicon, name="favicon"),
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
    path("", dashboard.dashboard, name="dashboard"),
    path("activity", activity.activity, name="activity"),
    path("cve", catalog.cve_list, name="cve_list"),
    # Export and feeds (lane x); before cve/<id>, which would take "export.csv" for an id
    path("cve/export.csv", export.cve_export, name="cve_export"),
    re_path(r"^cve/feed\.(?P<kind>atom|rss)$", feeds.catalog_feed, name="catalog_feed"),
    re_path(rf"^feeds/{_KEY}/cve\.(?P<kind>atom|rss)$", feeds.keyed_catalog_feed, name="keyed_catalog_feed"),
    re_path(
        rf"^feeds/{_KEY}/projects/(?P<project>[-a-zA-Z0-9_]+)\.(?P<kind>atom|rss)$",
        feeds.keyed_project_feed,
        name="keyed_project_feed",
    ),
    path("cve/<str:cve_id>", catalog.cve_detail, name="cve_detail"),
    # Workbench (wt-t): tags, triage, saved views
    path("cve/<str:cve_id>/tags", workbench.cve_tags, name="cve_tags"),
    path("tags", workbench.tag_list, name="tag_list"),
    path("tags/<str:name>/edit", workbench.tag_edit, name="tag_edit"),
    path("tags/<str:name>/delete", workbench.tag_delete, name="tag_delete"),
    path("views", saved.view_list, name="view_list"),
    path("views/<int:view_id>", saved.view_open, name="view_open"),
    path("views/<int:view_id>/rename", saved.view_rename, name="view_rename"),
    path("views/<int:view_id>/delete", saved.view_delete, name="view_delete"),
    path("weaknesses", weaknesses.weakness_list, name="weakness_list"),
    path("weaknesses/<str:cwe_id>", weaknesses.weakness_detail, name="weakness_detail"),
    path("vendors", vendors.vendor_list, name="vendor_list"),
    path("vendors/<path:name>", vendors.vendor_detail, name="vendor_detail"),
    path("products", vendors.product_detail, name="product_detail"),
    path("subscriptions", vendors.subscribe, name="catalog_subscribe"),
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
    path("org/<slug:org>/tokens/<str:token_id>/created", tokens.token_created, name="token_created"),
    path("org/<slug:org>/tokens/<str:token_id>/revoke", tokens.token_revoke, name="token_revoke"),
    # Projects
    path("org/<slug:org>/projects", projects.project_list, name="project_list"),
    path("org/<slug:org>/new-project", projects.project_create, name="project_create"),
    path("org/<slug:org>/projects/<slug:project>", projects.project_detail, name="project_detail"),
    path("org/<slug:org>/projects/<slug:project>/export.csv", export.project_export, name="project_export"),
    re_path(
        r"^org/(?P<org>[-a-zA-Z0-9_]+)/projects/(?P<project>[-a-zA-Z0-9_]+)/feed\.(?P<kind>atom|rss)$",
        feeds.project_feed,
        name="project_feed",
    ),
    path("org/<slug:org>/feeds", feeds.feed_key_list, name="feed_key_list"),
    path("org/<slug:org>/feeds/<str:key_id>/revoke", feeds.feed_key_revoke, name="feed_key_revoke"),
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
    path(
        "org/<slug:org>/projects/<slug:project>/triage/<str:cve_id>",
        workbench.cve_triage,
        name="cve_triage",
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
