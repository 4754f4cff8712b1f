/* vnetsim -- umbrella header. */
#ifndef VNETSIM_H
#define VNETSIM_H

#define VNS_VERSION_MAJOR 0
#define VNS_VERSION_MINOR 1
#define VNS_VERSION_PATCH 0
#define VNS_VERSION_STRING "0.1.0"

#include "vnetsim/common.h"
#include "vnetsim/error.h"
#include "vnetsim/alloc.h"
#include "vnetsim/rng.h"
#include "vnetsim/func.h"
#include "vnetsim/sim.h"
#include "vnetsim/cpu.h"
#include "vnetsim/trace.h"
#include "vnetsim/units.h"
#include "vnetsim/stats.h"
#include "vnetsim/gmem.h"
#include "vnetsim/virtq.h"
#include "vnetsim/devq.h"
#include "vnetsim/vhost.h"
#include "vnetsim/demo.h"

#endif
