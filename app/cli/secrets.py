"""`crmsync secrets`: rotation of CRMSYNC_SECRET_KEY."""

from __future__ import annotations

import typer

secrets_cli = typer.Typer(help="The key that encrypts stored mailbox credentials.")


@secrets_cli.command("rotate")
def rotate() -> None:
    """Re-encrypt every stored credential with CRMSYNC_SECRET_KEY.

    Run it once every crmsync process has CRMSYNC_SECRET_KEY set to the new key and
    CRMSYNC_SECRET_KEY_PREVIOUS to the old one; afterwards the old key can be removed.
    """
    from app.db import unit_of_work
    from app.kit.crypto import default_secret_box
    from app.users.key_rotation import reencrypt_stored_secrets

    with unit_of_work() as db:
        rotation = reencrypt_stored_secrets(db, default_secret_box())
    typer.echo(f"re-encrypted {rotation.reencrypted} stored credentials with CRMSYNC_SECRET_KEY")
    if rotation.unreadable:
        users = ", ".join(str(user_id) for user_id in rotation.unreadable)
        typer.secho(
            f"error: the credentials of users {users} open with neither CRMSYNC_SECRET_KEY nor"
            " CRMSYNC_SECRET_KEY_PREVIOUS; they were left as they are: set them again"
            " (PATCH /api/v1/users/{id}) before removing the previous key",
            fg=typer.colors.RED,
            err=True,
        )
    if rotation.unreadable_connections:
        names = ", ".join(rotation.unreadable_connections)
        typer.secho(
            f"error: the credentials of connections {names} open with neither key; they were"
            " left as they are: set them again (PATCH /api/v1/connections/{name})",
            fg=typer.colors.RED,
            err=True,
        )
    if rotation.unreadable or rotation.unreadable_connections:
        raise typer.Exit(code=1)
    typer.echo("every stored credential now opens with it: CRMSYNC_SECRET_KEY_PREVIOUS can go")
