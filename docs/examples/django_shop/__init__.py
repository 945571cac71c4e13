"""A Django project that keeps rapport in Django's database, through its own engine."""
