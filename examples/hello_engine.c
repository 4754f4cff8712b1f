/* examples/hello_engine.c -- the smallest program that uses vnetsim. */
#include <stdio.h>
#include "vnetsim/vnetsim.h"
int main(void) { return 0; }
