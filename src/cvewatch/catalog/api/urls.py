"""The catalog's API routes. No trailing slashes, and APPEND_SLASH is off."""

from django.urls import path

from cvewatch.catalog.api import views

urlpatterns = [
    path("cve", views.CveListView.as_view(), name="api-cve-list"),
    path("cve/<str:cve_id>", views.CveDetailView.as_view(), name="api-cve-detail"),
    path("vendors", views.VendorListView.as_view(), name="api-vendor-list"),
    path("vendors/<str:name>", views.VendorDetailView.as_view(), name="api-vendor-detail"),
    path("vendors/<str:vendor>/cve", views.VendorCveListView.as_view(), name="api-vendor-cve-list"),
    path("vendors/<str:vendor>/products", views.ProductListView.as_view(), name="api-product-list"),
    path(
        "vendors/<str:vendor>/products/<str:name>",
        views.ProductDetailView.as_view(),
        name="api-product-detail",
    ),
    path(
        "vendors/<str:vendor>/products/<str:product>/cve",
        views.ProductCveListView.as_view(),
        name="api-product-cve-list",
    ),
    path("weaknesses", views.WeaknessListView.as_view(), name="api-weakness-list"),
    path("weaknesses/<str:cwe_id>", views.WeaknessDetailView.as_view(), name="api-weakness-detail"),
    path("weaknesses/<str:cwe_id>/cve", views.WeaknessCveListView.as_view(), name="api-weakness-cve-list"),
]
