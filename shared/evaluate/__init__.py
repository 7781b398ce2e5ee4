"""Evaluate: several registry models on a whole dataset (a streamed hub split, a folder or zip of your own audio
with a references file, or a list of sentences for TTS), one table. Every example goes through the task packages'
own `run` functions, so a number here is the number a user sees in the single-clip tabs. `python -m
shared.evaluate` runs the same evaluation from the command line (resumable; distributed with Hugging Face
Accelerate)."""
