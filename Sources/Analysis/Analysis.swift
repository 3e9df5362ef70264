// Analysis: under construction.
