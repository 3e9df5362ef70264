// TensorIO: under construction.
