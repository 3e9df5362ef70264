// Engine: under construction.
