"""Orders go through Django; rapport hears of each one once Django has committed it."""

from __future__ import annotations

import json

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

import rapport
from django_shop.crm import crm
from django_shop.models import Order


@csrf_exempt
@require_POST
def add_customer(request: HttpRequest) -> JsonResponse:
    try:
        customer = crm().upsert_customer(json.loads(request.body))
    except rapport.InvalidInputError as error:
        return JsonResponse({"error": str(error)}, status=422)
    return JsonResponse(customer.model_dump(mode="json"), status=201)


@csrf_exempt
@require_POST
def place_order(request: HttpRequest) -> JsonResponse:
    data = json.loads(request.body)
    with transaction.atomic():
        order = Order.objects.create(customer=data["customer"], total=data["total"])
        purchase = {
            "customer_id": order.customer,
            "external_id": f"order-{order.pk}",  # recording it twice changes nothing
            "occurred_at": crm().now(),
            "amount": str(order.total),
        }
        # Only an order that was committed reaches the customer's history.
        transaction.on_commit(lambda: crm().record_purchase(purchase))
    return JsonResponse({"order": order.pk}, status=201)


@require_GET
def profile(request: HttpRequest, external_id: str) -> JsonResponse:
    try:
        return JsonResponse(crm().get_profile(external_id).model_dump(mode="json"))
    except rapport.NotFoundError as error:
        return JsonResponse({"error": str(error)}, status=404)
