"""`meddata publish`: one Hub dataset repo per built variant, uploaded exactly as built.

The card is written at build time (meddata.card); here it is only checked, before any upload.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from meddata.config import load_config
from meddata.errors import InputError
from meddata.hubcard import check_card
from meddata.hubsync import Content, HubError, Published, Publisher, find_token, require_token
from meddata.variants import expand, select

NAMESPACE = re.compile(r"[A-Za-z0-9][\w.-]*\Z")


def variant_files(folder: Path) -> dict[str, Content]:
    """Every file of a built variant folder, by its path in the repo."""
    if not (folder / "README.md").is_file():
        raise InputError(
            folder, "no built dataset here", f"run `meddata build --variants {folder.name}` first"
        )
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    found: dict[str, Content] = {p.relative_to(folder).as_posix(): p for p in files}
    readme = folder / "README.md"
    try:
        check_card(readme.read_text(encoding="utf-8"), set(found))
    except ValueError as err:
        raise InputError(
            readme, str(err), f"rebuild with `meddata build --variants {folder.name}`"
        ) from err
    return found


def publish_datasets(
    publisher: Publisher,
    namespace: str,
    folders: dict[str, dict[str, Content]],
    *,
    private: bool,
    dry_run_dir: Path | None,
) -> list[Published]:
    """Publish each checked variant folder to `<namespace>/<variant>` (or dry-run it)."""
    results = []
    with Progress(transient=True) as progress:
        task = progress.add_task("publishing", total=len(folders))
        for name, files in folders.items():
            repo_id = f"{namespace}/{name}"
            progress.update(task, description=repo_id)
            if dry_run_dir is None:
                result = publisher.publish(repo_id, "dataset", files, private)
            else:
                result = publisher.dry_run(repo_id, "dataset", files, dry_run_dir)
            progress.console.print(result.describe(), soft_wrap=True, highlight=False, markup=False)
            results.append(result)
            progress.advance(task)
    return results


def publish(
    namespace: Annotated[
        str, typer.Option(help="Hub user or organization that owns the repos (NS/VARIANT).")
    ],
    variants: Annotated[
        list[str] | None,
        typer.Option(
            "--variants", "-v", help="Variant to publish (repeat the option); default: all."
        ),
    ] = None,
    processed: Annotated[
        Path, typer.Option(help="Folder holding the built variants (`meddata build --out`).")
    ] = Path("data/processed"),
    private: Annotated[bool, typer.Option(help="Create new repos as private.")] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            help="Push nothing: write the repo folders and print what would change "
            "(works offline and without a token)."
        ),
    ] = False,
    dry_run_dir: Annotated[
        Path, typer.Option(help="Where --dry-run writes the repo folders.")
    ] = Path("artifacts/publish"),
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="The build config the variants were built from."),
    ] = None,
) -> None:
    """Publish dataset variants to the Hugging Face Hub, one dataset repo per variant.

    Needs a Hub token (HF_TOKEN or `hf auth login`), except with --dry-run. Unchanged repos get
    no commit; changed ones get one commit whose message lists the files added, updated and
    deleted.
    """
    try:
        token = find_token() if dry_run else require_token()
        if not NAMESPACE.match(namespace):
            raise HubError(f"--namespace {namespace!r} is not a Hub user or organization name", 2)
        try:
            names = [v.name for v in select(expand(load_config(config)), variants)]
        except ValueError as err:
            raise HubError(str(err), 2) from err
        folders = {name: variant_files(processed / name) for name in names}
        publish_datasets(
            Publisher(token),
            namespace,
            folders,
            private=private,
            dry_run_dir=dry_run_dir if dry_run else None,
        )
    except InputError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    except HubError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(err.exit_code) from None
