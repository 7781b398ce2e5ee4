"""Shared code of Audio Demo Suite: config, model registry and loader, audio intake, DSP and plots."""
