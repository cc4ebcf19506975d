#include "catalog/sqlite_schema.hpp"

#include <array>

namespace thumbflow::catalog {
namespace {

// Column names are the catalog's attribute names (core/json.hpp). The columns hold what queries
// filter, sort or show in lists; `details` holds the rest of the record as JSON (renditions,
// probe facts, dominant colour, blurhash, etag, versionId) under the same attribute names.
// Indexes end with imageId so "newest first, then imageId" is one index walk.
constexpr std::array kSteps{
    SchemaStep{1, "ImageMetadata table and the uploadDate index", R"sql(
CREATE TABLE ImageMetadata (
  imageId        TEXT NOT NULL PRIMARY KEY,
  bucket         TEXT NOT NULL,
  originalImage  TEXT NOT NULL,
  thumbnailImage TEXT NOT NULL,
  uploadDate     TEXT NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('processed', 'failed')),
  errorKind      TEXT,
  errorMessage   TEXT,
  attempts       INTEGER NOT NULL,
  sourceBytes    INTEGER NOT NULL,
  processingMs   REAL NOT NULL,
  updatedAt      TEXT NOT NULL,
  details        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX ImageMetadata_uploadDate ON ImageMetadata (uploadDate, imageId);
)sql"},
    SchemaStep{2, "probe columns (format, width, height) filled from details, and the (status, uploadDate) index",
               R"sql(
ALTER TABLE ImageMetadata ADD COLUMN format TEXT;
ALTER TABLE ImageMetadata ADD COLUMN width INTEGER;
ALTER TABLE ImageMetadata ADD COLUMN height INTEGER;
UPDATE ImageMetadata
   SET format = json_extract(details, '$.image.format'),
       width  = json_extract(details, '$.image.width'),
       height = json_extract(details, '$.image.height')
 WHERE json_valid(details) AND json_type(details, '$.image') = 'object';
CREATE INDEX ImageMetadata_status_uploadDate ON ImageMetadata (status, uploadDate, imageId);
)sql"},
};

}  // namespace

std::span<const SchemaStep> sqlite_schema_steps() { return kSteps; }
int sqlite_schema_version() { return kSteps.back().version; }

}  // namespace thumbflow::catalog
