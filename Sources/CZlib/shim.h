// zlib inflate, for deflated zip entries in torch checkpoints.
#include <zlib.h>
