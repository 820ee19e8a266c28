from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from academy import views

admin.site.site_header = "Academy control plane"
admin.site.site_title = "Academy admin"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("approvals/", include(("approvals.urls", "approvals"))),
    path("panel/", include(("monitoring.urls", "monitoring"))),
    path("agents/", include(("agents.urls", "agents"))),
    path("desk/", include(("agents.desk_urls", "desk"))),
    path("", include("monitoring.metrics_urls")),  # /metrics (Prometheus)
]
