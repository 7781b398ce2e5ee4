"""The Gradio side (the only package under shared/ that imports gradio): `widgets` (the tabs' shared widgets and
error translation), `dataset_source` (the "stream an example" block), `cancel` (model events as cancellable
generators), `slots` (in-flight limit of model-bound work), `zero_gpu` (`@spaces.GPU` on ZeroGPU Spaces) and
`estimates` (GPU seconds a request will take)."""
