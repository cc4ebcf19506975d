#include "imaging/colour_transform.hpp"

#include <lcms2.h>

#include <list>
#include <mutex>
#include <string>
#include <utility>

namespace thumbflow::imaging {
namespace {

// Profiles larger than this are converted without being kept (a key holds the whole profile).
constexpr std::size_t kMaxCachedProfileBytes = 256 * 1024;
// Distinct profiles kept; the least recently used goes first.
constexpr std::size_t kMaxCachedTransforms = 16;

class LcmsTransform final : public SrgbTransform {
 public:
  LcmsTransform(cmsHTRANSFORM t, int bands) : transform_(t), bands_(bands) {}
  ~LcmsTransform() override { cmsDeleteTransform(transform_); }
  LcmsTransform(const LcmsTransform&) = delete;
  LcmsTransform& operator=(const LcmsTransform&) = delete;
  int input_bands() const override { return bands_; }
  void apply(const std::uint8_t* in, std::uint8_t* out, std::size_t count) const override {
    // cmsDoTransform takes a 32-bit count: convert in slices.
    constexpr std::size_t kSlice = std::size_t{1} << 30;
    while (count > 0) {
      const std::size_t n = count < kSlice ? count : kSlice;
      cmsDoTransform(transform_, in, out, static_cast<cmsUInt32Number>(n));
      in += n * static_cast<std::size_t>(bands_);
      out += n * 3;
      count -= n;
    }
  }

 private:
  cmsHTRANSFORM transform_;
  int bands_;
};

struct ProfileCloser {
  void operator()(void* p) const {
    if (p) cmsCloseProfile(p);
  }
};
using Profile = std::unique_ptr<void, ProfileCloser>;

std::shared_ptr<const SrgbTransform> build(std::string_view bytes, int bands) {
  if (bytes.empty() || bytes.size() > UINT32_MAX) return nullptr;
  Profile in(cmsOpenProfileFromMem(bytes.data(), static_cast<cmsUInt32Number>(bytes.size())));
  if (!in) return nullptr;
  const cmsColorSpaceSignature space = cmsGetColorSpace(in.get());
  cmsUInt32Number in_type = 0;
  if (bands == 1 && space == cmsSigGrayData) in_type = TYPE_GRAY_8;
  else if (bands == 3 && space == cmsSigRgbData) in_type = TYPE_RGB_8;
  else if (bands == 4 && space == cmsSigCmykData) in_type = TYPE_CMYK_8;
  else return nullptr;
  Profile out(cmsCreate_sRGBProfile());
  if (!out) return nullptr;
  // NOCACHE: lcms' one-pixel cache is per transform and written on every call, so a transform
  // shared between threads must not have it.
  cmsHTRANSFORM t = cmsCreateTransform(in.get(), in_type, out.get(), TYPE_RGB_8, INTENT_RELATIVE_COLORIMETRIC,
                                       cmsFLAGS_NOCACHE);
  if (!t) return nullptr;
  return std::make_shared<LcmsTransform>(t, bands);
}

struct Cache {
  std::mutex mutex;
  // Most recently used first; the key is the band count then the profile's bytes.
  std::list<std::pair<std::string, std::shared_ptr<const SrgbTransform>>> entries;
  SrgbTransformStats stats;
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: workers may still convert during exit
  return *c;
}

}  // namespace

std::shared_ptr<const SrgbTransform> srgb_transform(std::string_view profile, int bands) {
  if (bands != 1 && bands != 3 && bands != 4) return nullptr;
  Cache& c = cache();
  if (profile.size() > kMaxCachedProfileBytes) {
    auto t = build(profile, bands);
    std::lock_guard lock(c.mutex);
    if (t) ++c.stats.built;
    return t;
  }
  std::string key(1, static_cast<char>('0' + bands));
  key.append(profile);
  std::lock_guard lock(c.mutex);
  for (auto it = c.entries.begin(); it != c.entries.end(); ++it) {
    if (it->first == key) {
      c.entries.splice(c.entries.begin(), c.entries, it);
      ++c.stats.reused;
      return c.entries.front().second;
    }
  }
  // Built under the lock: a burst of images with one new profile builds it once.
  auto t = build(profile, bands);
  if (!t) return nullptr;  // refused profiles are not kept; libvips decides what they mean
  ++c.stats.built;
  c.entries.emplace_front(std::move(key), t);
  if (c.entries.size() > kMaxCachedTransforms) c.entries.pop_back();
  return t;
}

SrgbTransformStats srgb_transform_stats() {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  return c.stats;
}

}  // namespace thumbflow::imaging
