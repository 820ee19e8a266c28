from django.apps import AppConfig


class ChatopsConfig(AppConfig):
    name = "chatops"
    verbose_name = "Chat bot"
    default_auto_field = "django.db.models.BigAutoField"
