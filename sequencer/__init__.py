"""The mlrollup sequencer: REST API, durable mempool, block builder (FastAPI, SQLAlchemy).

`python -m sequencer` runs it; `sequencer.main.create_app` builds the app; `sequencer.l1` holds the
interfaces the L1 side (deposit watcher, batch poster) implements.
"""
