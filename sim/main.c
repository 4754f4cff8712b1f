/* sim/main.c -- the vnetsim command (placeholder until sim/cli.c lands) */
#include <stdio.h>
#include "vnetsim/vnetsim.h"
int main(void) { return 0; }
