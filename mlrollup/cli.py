"""`mlrollup`: one command, one subcommand per role; each role parses its own flags."""

from __future__ import annotations

import typer

from client.cli import app as client_app

app = typer.Typer(
    name="mlrollup",
    help="An optimistic L2 rollup for decentralized AI. `mlrollup ROLE --help` for a role's flags; "
    "`mlrollup COMMAND --help` for a user command's.",
    no_args_is_help=True,
    add_completion=False,
)

PASSTHROUGH = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


@app.command(context_settings=PASSTHROUGH)
def devnet(ctx: typer.Context) -> None:
    """Serve an embedded py-evm chain over JSON-RPC on 127.0.0.1, with funded development accounts."""
    from l1_contracts.devnet import main

    raise typer.Exit(main(ctx.args))


@app.command(context_settings=PASSTHROUGH)
def deploy(ctx: typer.Context) -> None:
    """Deploy the L1 contracts through any JSON-RPC URL and write deployments/<chainId>.json."""
    from l1_contracts.deploy import main

    raise typer.Exit(main(ctx.args))


@app.command(context_settings=PASSTHROUGH)
def sequencer(ctx: typer.Context) -> None:
    """Run the sequencer service: REST API, durable mempool, block builder, L1 deposits (and with
    --batcher the batch posting daemon)."""
    from sequencer.cli import main

    main(ctx.args)


@app.command(context_settings=PASSTHROUGH)
def batcher(ctx: typer.Context) -> None:
    """Post the sequencer's sealed batches to the L1 Rollup (the batch posting daemon on its own)."""
    from sequencer.cli import batcher_main

    raise typer.Exit(batcher_main(ctx.args))


@app.command(context_settings=PASSTHROUGH)
def verifier(ctx: typer.Context) -> None:
    """Re-execute every batch from L1 data alone; challenge and prove a wrong one (REST API on :8100)."""
    from verifier.cli import main

    raise typer.Exit(main(ctx.args))


@app.command(context_settings=PASSTHROUGH)
def up(ctx: typer.Context) -> None:
    """The local stack in one command: devnet, contracts, sequencer with its batcher, verifier; Ctrl-C."""
    from mlrollup.up import main

    raise typer.Exit(main(ctx.args))


@app.command(context_settings=PASSTHROUGH)
def demo(ctx: typer.Context) -> None:
    """The rollup's story end to end: a funded digits competition (five miners, one lazy, one a
    copycat), the paper's shared regression, a withdrawal claimed on L1, the L1 gas against the
    pure on-chain twins. Against --url, or a temporary stack of its own."""
    from mlrollup.demo import main

    raise typer.Exit(main(ctx.args))


simulate_app = typer.Typer(
    name="simulate",
    help="Simulations of the paper's experiments (`mlrollup simulate COMMAND --help`).",
    no_args_is_help=True,
    add_completion=False,
)


@simulate_app.command(context_settings=PASSTHROUGH)
def pouw(ctx: typer.Context) -> None:
    """The paper's Proof-of-Useful-Work attack (section IV.D, Figs. 1 and 2) with minted rewards, the
    same attack with this rollup's escrowed rewards, and one round of it through the state transition;
    writes docs/results/pouw.md and its plots."""
    from bench.pouw import main

    raise typer.Exit(main(ctx.args, prog="mlrollup simulate pouw", default_out="docs/results"))


app.add_typer(simulate_app)

bench_app = typer.Typer(
    name="bench",
    help="Benchmarks that write a report under docs/results (`mlrollup bench COMMAND --help`).",
    no_args_is_help=True,
    add_completion=False,
)


@bench_app.command(context_settings=PASSTHROUGH)
def gas(ctx: typer.Context) -> None:
    """The L1 gas of the paper's Table I and of digits competitions with 1 to 1,000 miners, purely on L1
    (the on-chain twins) against the rollup, where the rollup's bytes go; writes docs/results/gas.md
    and its plots."""
    from bench.gas.cli import main

    raise typer.Exit(main(ctx.args, prog="mlrollup bench gas"))


app.add_typer(bench_app)

# The user commands (account, deposit, transfer, …) sit beside the roles, in their own help panel.
app.add_typer(client_app)
