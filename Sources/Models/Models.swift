// Models: under construction.
