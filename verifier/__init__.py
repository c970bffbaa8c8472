"""The mlrollup verifier: follows L1, re-executes every batch from L1 data alone, and plays the fraud
game against a wrong one (challenge, wait for the reveal or win on timeout, prove, withdraw).

`python -m verifier` (or `mlrollup verifier`) runs it; `verifier.api.create_app` builds its REST API;
`verifier.node.VerifierNode` is the loop that the API runs on a thread.
"""
