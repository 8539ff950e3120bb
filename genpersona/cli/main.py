"""The ``genpersona`` command: one Typer app, one sub-module per concept."""

from __future__ import annotations

import typer

from genpersona.runtime import apply_runtime_defaults

app = typer.Typer(
    name="genpersona",
    help="Personalized, on-brand marketing copy from an LLM, reviewed by marketers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _entry() -> None:
    """Personalized, on-brand marketing copy from an LLM, reviewed by marketers."""
    # an entry point: OpenMP defaults before any command loads a model (genpersona/runtime.py)
    apply_runtime_defaults()


# Each concept registers its commands here (keep one line per module).
from genpersona.cli import accounts as _accounts  # noqa: E402
from genpersona.cli import brand as _brand  # noqa: E402
from genpersona.cli import campaign as _campaign  # noqa: E402
from genpersona.cli import campaign_report as _campaign_report  # noqa: E402, F401 (adds a command)
from genpersona.cli import console as _console  # noqa: E402
from genpersona.cli import customer as _customer  # noqa: E402
from genpersona.cli import demo as _demo  # noqa: E402
from genpersona.cli import doctor as _doctor  # noqa: E402
from genpersona.cli import generate as _generate  # noqa: E402
from genpersona.cli import ingest as _ingest  # noqa: E402
from genpersona.cli import keys as _keys  # noqa: E402
from genpersona.cli import learn as _learn  # noqa: E402
from genpersona.cli import llm_cmd as _llm_cmd  # noqa: E402
from genpersona.cli import review as _review  # noqa: E402
from genpersona.cli import serve as _serve  # noqa: E402

_doctor.register(app)
_brand.register(app)
_llm_cmd.register(app)
_serve.register(app)
_campaign.register(app)
_generate.register(app)
_demo.register(app)
_console.register(app)
_ingest.register(app)
_customer.register(app)
_review.register(app)
_keys.register(app)
_accounts.register(app)
_learn.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
