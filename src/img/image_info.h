#pragma once
// QEMU's ImageInfo for one image (qemu-img info, --backing-chain), as JSON
// (QAPI member order, printed in QDict order) and as its human form.
#include "block/image/async_image.h"
#include "img/qdict_json.h"

#include <string>

namespace kestrel::img {

// `filename` as qemu-img names the image (the argument, or the resolved
// backing path in a chain).
Json image_info_json(AsyncImage& image, const std::string& filename);
std::string image_info_human(AsyncImage& image, const std::string& filename);
// "Snapshot list:" and its table, as info and snapshot -l print it.
std::string snapshot_list_human(AsyncImage& image);

} // namespace kestrel::img
