"""The smallest settings for the example; yours have more."""

from __future__ import annotations

import os

SECRET_KEY = "example-only"
DEBUG = False
ALLOWED_HOSTS = ["localhost", "testserver"]
ROOT_URLCONF = "django_shop.urls"
INSTALLED_APPS = ["django_shop.apps.ShopConfig"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SHOP_DATABASE", "shop.sqlite3"),
    }
}
USE_TZ = True
