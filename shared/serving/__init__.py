"""The Gradio side (the only package under shared/ that imports gradio): `widgets` (the tabs' shared widgets and
error translation), `window_tab` (the Classify / Zero-shot layout), `dataset_source` (the "stream an example"
block), `cancel` (model events as cancellable coroutines), `relay` (a streamed event whose work stays on one worker
thread), `slots` (in-flight limit of model-bound work), `gradio_io` (how output pictures and audio files are made),
`zero_gpu` (`@spaces.GPU` on ZeroGPU Spaces) and `estimates` (GPU seconds a request will take)."""
