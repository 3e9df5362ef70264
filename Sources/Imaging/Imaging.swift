// Imaging: under construction.
