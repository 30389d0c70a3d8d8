from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "cvewatch.web"
    label = "web"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save

        from cvewatch.web import demo_login

        # Keeps DATA_DIR/demo-login.txt true when the demo user's password changes (see demo_login).
        post_save.connect(demo_login.password_saved, sender=get_user_model(), dispatch_uid="demo-login")
