// Umbrella header: everything an embedder needs.
#pragma once

#include "quay/access.h"
#include "quay/audit.h"
#include "quay/clock.h"
#include "quay/digest.h"
#include "quay/fault_blob_store.h"
#include "quay/identity.h"
#include "quay/logger.h"
#include "quay/login_throttle.h"
#include "quay/manifest.h"
#include "quay/options.h"
#include "quay/reference.h"
#include "quay/registry.h"
#include "quay/signing_keys.h"
#include "quay/status.h"
#include "quay/storage.h"
#include "quay/tag_policy.h"
