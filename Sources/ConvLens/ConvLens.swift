// ConvLens: under construction.
