# One image for every role: `mlrollup devnet | deploy | sequencer | batcher | up`.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# The CPU build of torch first: PyPI's default wheel for Linux is the CUDA one, several GB.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY service service
COPY protocol protocol
COPY l1_contracts l1_contracts
COPY sequencer sequencer
COPY verifier verifier
COPY client client
COPY bench bench
COPY mlrollup mlrollup
# The Solidity artifacts are committed: running the rollup needs no compiler.
RUN pip install .
ENTRYPOINT ["mlrollup"]
