//! Grouping missing assets into upload requests (reference §3.5).

/// Limits of the upload step. The defaults are wrangler 4's (`pages/constants.ts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    /// Raw file bytes per upload request (40 MiB). The JSON body carries base64, so it is about 4/3 larger.
    pub max_bucket_bytes: u64,
    /// Files per upload request (2 000).
    pub max_bucket_files: usize,
    /// Upload requests in flight at once (3). Drops to 1 after a gateway timeout (HTTP 524), as in wrangler.
    pub concurrency: usize,
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits {
            max_bucket_bytes: 40 * 1024 * 1024,
            max_bucket_files: 2_000,
            concurrency: 3,
        }
    }
}

/// wrangler starts with this many buckets whatever the concurrency (`BULK_UPLOAD_CONCURRENCY`).
const INITIAL_BUCKETS: usize = 3;

struct Bucket<T> {
    items: Vec<T>,
    remaining_bytes: u64,
}

/// Splits items into buckets within `limits`, as wrangler does: largest first; item `i` tries the buckets
/// round-robin from `i mod len`, goes into the first with room (bytes and file count), and opens a new
/// bucket when none has room. Empty buckets are dropped. Relative order within a size is kept.
pub(crate) fn into_buckets<T>(mut items: Vec<T>, size_of: impl Fn(&T) -> u64, limits: &UploadLimits) -> Vec<Vec<T>> {
    items.sort_by_key(|item| std::cmp::Reverse(size_of(item)));
    let max_files = limits.max_bucket_files.max(1);
    let mut buckets: Vec<Bucket<T>> = (0..INITIAL_BUCKETS)
        .map(|_| Bucket {
            items: Vec::new(),
            remaining_bytes: limits.max_bucket_bytes,
        })
        .collect();
    for (index, item) in items.into_iter().enumerate() {
        let size = size_of(&item);
        let count = buckets.len();
        let target = (0..count)
            .map(|offset| (index + offset) % count)
            .find(|&b| buckets[b].remaining_bytes >= size && buckets[b].items.len() < max_files);
        match target {
            Some(b) => {
                buckets[b].remaining_bytes -= size;
                buckets[b].items.push(item);
            }
            None => buckets.push(Bucket {
                remaining_bytes: limits.max_bucket_bytes.saturating_sub(size),
                items: vec![item],
            }),
        }
    }
    buckets
        .into_iter()
        .map(|b| b.items)
        .filter(|items| !items.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    fn check(buckets: &[Vec<u64>], limits: &UploadLimits, expected_items: usize) {
        assert_eq!(buckets.iter().map(Vec::len).sum::<usize>(), expected_items);
        for bucket in buckets {
            assert!(!bucket.is_empty());
            assert!(bucket.len() <= limits.max_bucket_files, "{} files", bucket.len());
            let bytes: u64 = bucket.iter().sum();
            assert!(bytes <= limits.max_bucket_bytes || bucket.len() == 1, "{bytes} bytes");
        }
    }

    #[test]
    fn respects_the_file_count_limit() {
        let limits = UploadLimits::default();
        let buckets = into_buckets(vec![1u64; 6_001], |s| *s, &limits);
        check(&buckets, &limits, 6_001);
        assert_eq!(buckets.len(), 4, "three full buckets of 2000 and one more");
        assert_eq!(buckets.iter().map(Vec::len).max(), Some(2_000));
    }

    #[test]
    fn respects_the_byte_limit() {
        let limits = UploadLimits::default();
        let sizes = vec![15 * MIB; 8];
        let buckets = into_buckets(sizes, |s| *s, &limits);
        check(&buckets, &limits, 8);
        assert_eq!(buckets.len(), 4);
    }

    #[test]
    fn a_small_site_fits_in_few_buckets_and_empty_ones_are_dropped() {
        let limits = UploadLimits::default();
        assert_eq!(into_buckets(vec![10u64, 20], |s| *s, &limits).len(), 2);
        assert!(into_buckets(Vec::<u64>::new(), |s| *s, &limits).is_empty());
    }

    #[test]
    fn largest_files_go_first_round_robin() {
        let limits = UploadLimits::default();
        let buckets = into_buckets(vec![1u64, 5, 3, 4, 2, 6], |s| *s, &limits);
        assert_eq!(buckets, vec![vec![6, 3], vec![5, 2], vec![4, 1]]);
    }

    #[test]
    fn tiny_limits_split_many_ways() {
        let limits = UploadLimits {
            max_bucket_bytes: 100,
            max_bucket_files: 2,
            concurrency: 1,
        };
        let buckets = into_buckets(vec![60u64, 60, 30, 30, 30, 10, 200], |s| *s, &limits);
        check(&buckets, &limits, 7);
    }
}
