"""rapport's Alembic migrations, shipped inside the package (version table
``rapport_alembic_version``, branch label ``rapport``)."""
