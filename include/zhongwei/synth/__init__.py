"""Synthetic feeds: a deterministic imitation of what the partners deliver.

`zw synth` writes an inbox in the exact layouts of the feed contracts, with
defects on purpose, and a truth file (injected defects and the indicators
computed straight from the clean records) that tests compare the pipeline with.
Nothing here imports the pipeline: it plays the outside world.
"""
