//! The object store's own rules: bodies round-trip inline and as files, crashes leave nothing a
//! reader sees, and versions are kept, ordered and removed as S3 keeps them.

use super::*;
use crate::store::{bodies, SledStore};

fn read_all(objects: &Objects, bucket: &str, key: &str) -> Option<Vec<u8>> {
    let (_, mut reader) = objects.get(bucket, key).unwrap()?;
    let mut out = Vec::new();
    reader.read_to_end(&mut out).unwrap();
    Some(out)
}

fn put(objects: &Objects, key: &str, body: &[u8], versioning: Versioning) -> ObjectInfo {
    objects
        .put(
            "b",
            key,
            &mut &body[..],
            ObjectMeta::default(),
            1.0,
            versioning,
        )
        .unwrap()
}

fn round_trips(objects: &Objects) {
    let info = put(objects, "a/k.zip", b"first", Versioning::Off);
    assert_eq!((info.size, info.bucket.as_str()), (5, "b"));
    assert_eq!(read_all(objects, "b", "a/k.zip").unwrap(), b"first");
    put(objects, "a/k.zip", b"second!", Versioning::Off);
    assert_eq!(read_all(objects, "b", "a/k.zip").unwrap(), b"second!");
    assert_eq!(objects.head("b", "a/k.zip").unwrap().unwrap().size, 7);
    assert!(objects.get("other", "a/k.zip").unwrap().is_none());
    let big = vec![7u8; bodies::INLINE_MAX + 1];
    put(objects, "big", &big, Versioning::Off);
    assert_eq!(read_all(objects, "b", "big").unwrap(), big);
    objects
        .delete("b", "a/k.zip", Versioning::Off, 2.0)
        .unwrap();
    objects.delete("b", "big", Versioning::Off, 2.0).unwrap();
    assert!(read_all(objects, "b", "a/k.zip").is_none());
    assert!(!objects.any_in("b").unwrap());
}

fn temporary() -> Arc<dyn Store> {
    Arc::new(SledStore::temporary().unwrap())
}

fn files_in(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

#[test]
fn bodies_round_trip_in_memory() {
    round_trips(&Objects::in_memory(temporary()));
}

#[test]
fn bodies_round_trip_on_disk_and_leave_no_files_behind() {
    let dir = tempfile::tempdir().unwrap();
    let store = temporary();
    let objects = Objects::on_disk(store.clone(), dir.path().join("objects")).unwrap();
    round_trips(&objects);
    assert_eq!(files_in(&dir.path().join("objects")), 0);

    // Small bodies live in their records; a large one is a file. A body without a record (a
    // crash before the record) is swept after the next open.
    put(
        &objects,
        "kept",
        &vec![1u8; bodies::INLINE_MAX + 1],
        Versioning::Off,
    );
    put(&objects, "small", b"inline", Versioning::Off);
    assert_eq!(files_in(&dir.path().join("objects")), 1);
    std::fs::write(dir.path().join("objects").join("orphan.partial"), b"half").unwrap();
    std::fs::write(dir.path().join("objects").join("orphan"), b"lost").unwrap();
    let reopened = Objects::on_disk(store, dir.path().join("objects")).unwrap();
    // The sweep runs beside start-up; a body written meanwhile is never taken for an orphan.
    put(
        &reopened,
        "fresh",
        &vec![2u8; bodies::INLINE_MAX + 1],
        Versioning::Off,
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while files_in(&dir.path().join("objects")) != 2 {
        assert!(std::time::Instant::now() < deadline, "the orphans stayed");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(read_all(&reopened, "b", "fresh").unwrap()[0], 2);
    assert_eq!(read_all(&reopened, "b", "small").unwrap(), b"inline");
    assert_eq!(
        read_all(&reopened, "b", "kept").unwrap().len(),
        bodies::INLINE_MAX + 1
    );
}

#[test]
fn a_body_that_fails_to_arrive_leaves_nothing() {
    struct Broken(usize);
    impl Read for Broken {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            // Enough to spill to a file first, then the client goes away.
            if self.0 > 2 * bodies::INLINE_MAX {
                return Err(std::io::Error::other("the client went away"));
            }
            self.0 += buf.len();
            Ok(buf.len())
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let objects = Objects::on_disk(temporary(), dir.path().to_path_buf()).unwrap();
    let failed = objects.put(
        "b",
        "k",
        &mut Broken(0),
        ObjectMeta::default(),
        1.0,
        Versioning::Off,
    );
    assert!(failed.is_err());
    assert!(objects.head("b", "k").unwrap().is_none());
    assert_eq!(files_in(dir.path()), 0);
}

#[test]
fn versions_are_kept_newest_first_and_delete_markers_hide_the_object() {
    let objects = Objects::in_memory(temporary());
    let v1 = put(&objects, "k", b"one", Versioning::Enabled);
    let v2 = put(&objects, "k", b"two", Versioning::Enabled);
    assert_ne!(v1.version(), v2.version());
    assert_eq!(read_all(&objects, "b", "k").unwrap(), b"two");
    let old = objects.version("b", "k", v1.version()).unwrap().unwrap();
    let mut body = Vec::new();
    objects.open(&old).unwrap().read_to_end(&mut body).unwrap();
    assert_eq!(body, b"one");

    let marker = objects
        .delete("b", "k", Versioning::Enabled, 3.0)
        .unwrap()
        .unwrap();
    assert!(marker.delete_marker);
    assert!(objects.head("b", "k").unwrap().is_none());
    let listed: Vec<String> = objects
        .list_versions("b", "", None, 10)
        .unwrap()
        .iter()
        .map(|v| v.version().to_owned())
        .collect();
    assert_eq!(listed, [marker.version(), v2.version(), v1.version()]);

    // Paging: after the marker come the two older versions; after the key, nothing.
    let rest = objects
        .list_versions("b", "", Some(("k", Some(marker.version()))), 10)
        .unwrap();
    assert_eq!(rest.len(), 2);
    let rest = objects
        .list_versions("b", "", Some(("k", Some(v2.version()))), 10)
        .unwrap();
    assert_eq!(rest[0].version(), v1.version());
    assert!(objects
        .list_versions("b", "", Some(("k", None)), 10)
        .unwrap()
        .is_empty());

    // Removing the marker brings the newest version back.
    objects.delete_version("b", "k", marker.version()).unwrap();
    assert_eq!(read_all(&objects, "b", "k").unwrap(), b"two");
    objects.delete_version("b", "k", v1.version()).unwrap();
    objects.delete_version("b", "k", v2.version()).unwrap();
    assert!(!objects.any_in("b").unwrap());
}

#[test]
fn suspended_versioning_replaces_only_the_null_version() {
    let objects = Objects::in_memory(temporary());
    put(&objects, "k", b"null one", Versioning::Off);
    let v = put(&objects, "k", b"versioned", Versioning::Enabled);
    put(&objects, "k", b"null two", Versioning::Suspended);
    put(&objects, "k", b"null three", Versioning::Suspended);
    let versions: Vec<String> = objects
        .list_versions("b", "", None, 10)
        .unwrap()
        .iter()
        .map(|v| v.version().to_owned())
        .collect();
    assert_eq!(versions, ["null", v.version()]);
    assert_eq!(read_all(&objects, "b", "k").unwrap(), b"null three");
}

#[test]
fn versions_of_neighbouring_keys_stay_in_key_order() {
    let objects = Objects::in_memory(temporary());
    for key in ["a", "a/b", "ab", "a"] {
        put(&objects, key, key.as_bytes(), Versioning::Enabled);
    }
    let keys: Vec<String> = objects
        .list_versions("b", "", None, 10)
        .unwrap()
        .into_iter()
        .map(|v| v.key)
        .collect();
    assert_eq!(keys, ["a", "a", "a/b", "ab"]);
    assert_eq!(objects.list_versions("b", "", None, 2).unwrap().len(), 2);
}

#[test]
fn removing_current_versions_in_one_batch_frees_bodies_and_uncovers_older_versions() {
    let dir = tempfile::tempdir().unwrap();
    let objects = Objects::on_disk(temporary(), dir.path().join("objects")).unwrap();
    let big = vec![3u8; bodies::INLINE_MAX + 1];
    put(&objects, "large", &big, Versioning::Off);
    put(&objects, "small", b"inline", Versioning::Off);
    put(&objects, "versioned", b"old", Versioning::Enabled);
    put(&objects, "versioned", b"new", Versioning::Enabled);
    assert_eq!(files_in(&dir.path().join("objects")), 1);

    let removed = objects
        .remove_current(&[
            ("b", "large"),
            ("b", "small"),
            ("b", "small"),
            ("b", "versioned"),
            ("b", "missing"),
        ])
        .unwrap();
    assert_eq!(removed, 3, "each key once; a missing one is no error");
    assert!(read_all(&objects, "b", "large").is_none());
    assert!(read_all(&objects, "b", "small").is_none());
    assert_eq!(
        files_in(&dir.path().join("objects")),
        0,
        "the large body went"
    );
    assert_eq!(read_all(&objects, "b", "versioned").unwrap(), b"old");
    assert_eq!(
        objects
            .list_versions("b", "versioned", None, 10)
            .unwrap()
            .len(),
        1
    );
}
