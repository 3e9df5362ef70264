// CPNG shim: under construction.
