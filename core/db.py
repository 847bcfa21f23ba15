from django.db import connection


def release_connection() -> None:
    """Hand the database connection back (to the pool, on PostgreSQL) before a long wait
    on the network, such as a model call; the next query takes one again. Inside a
    transaction the connection is kept: closing it would end the transaction."""
    if not connection.in_atomic_block:
        connection.close()
