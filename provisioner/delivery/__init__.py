"""Delivery: the pipeline's steps, their buildspecs and the pipeline's stages."""
