"""crmsync's Alembic migrations, installed as a package so `app.migrate` finds them by import."""
