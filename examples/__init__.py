"""The product's examples: the reference configuration its tests and documentation are made from."""
