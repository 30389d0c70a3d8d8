from django.urls import path

from cvewatch.alerts.web import views

app_name = "alerts"

urlpatterns = [
    path("alerts/email/<str:token>/confirm", views.confirm, name="confirm"),
    path("alerts/email/<str:token>/unsubscribe", views.unsubscribe, name="unsubscribe"),
]
