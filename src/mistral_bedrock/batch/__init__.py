"""Bedrock batch inference: the I/O-free core (records, validation, limits, cost, jobs, results) and the local runner.

A batch job reads JSONL lines ``{"recordId", "modelInput"}`` and writes ``{"recordId", "modelInput", "modelOutput"}``
(or ``"error"``) lines and a manifest; see ``docs/BATCH.md``. This package knows those formats and Bedrock's limits;
the client (control plane, S3) and the runtime (the emulated control plane) are shells around it.
"""
