from __future__ import annotations

from django.urls import path

from django_shop import views

urlpatterns = [
    path("customers", views.add_customer),
    path("customers/<str:external_id>", views.profile),
    path("orders", views.place_order),
]
