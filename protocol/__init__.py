"""mlrollup's L2 protocol: pure, deterministic, shared by every role.

Nothing here does I/O or imports web3, FastAPI, SQLAlchemy or another package of the project.
`docs/spec.md` pins every byte layout and arithmetic rule implemented here.
"""
