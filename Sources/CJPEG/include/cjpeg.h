// CJPEG shim: under construction.
