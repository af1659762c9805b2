//! Tags copies of every audio fixture in `../shared` and of the FMA MP3s,
//! checks what was written, that the audio bytes did not move a bit, and
//! that undo gives back every original byte.

use std::path::{Path, PathBuf};

use genreid_tagging::{
    Edit, Field, Journal, Mode, UndoOutcome, audio_digest, format_of, plan_file, read_journal, tag_file,
    undo_journal,
};
use genreid_testkit::shared;

fn taggable_fixtures() -> Vec<PathBuf> {
    let dir = shared().join("fixtures/audio");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("wav" | "mp3" | "flac" | "ogg")))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "expected the audio fixtures in {}", dir.display());
    files
}

fn fma_mp3s() -> Vec<PathBuf> {
    let dir = shared().join("data/fma/fma_small/000");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 50, "expected the FMA MP3s in {}", dir.display());
    files
}

fn copy_all(files: &[PathBuf], dir: &Path) -> Vec<PathBuf> {
    files
        .iter()
        .map(|f| {
            let to = dir.join(f.file_name().unwrap());
            // Content only: the shared fixtures are read-only.
            std::fs::write(&to, std::fs::read(f).unwrap()).unwrap();
            to
        })
        .collect()
}

fn edits(genre: &str, mode: Mode) -> Vec<Edit> {
    vec![
        Edit { field: Field::Genre, value: genre.into(), mode },
        Edit { field: Field::confidence(), value: "0.8125".into(), mode: Mode::Replace },
    ]
}

fn tag_and_undo(files: &[PathBuf]) {
    let dir = tempfile::tempdir().unwrap();
    let copies = copy_all(files, dir.path());
    let originals: Vec<Vec<u8>> = copies.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let journal_path = dir.path().join("journal.jsonl");
    let (journal, _) = Journal::open(&journal_path).unwrap();
    for (path, original) in copies.iter().zip(&originals) {
        let planned = plan_file(path, &edits("Metal", Mode::Replace))
            .unwrap_or_else(|e| panic!("planning {}: {e}", path.display()));
        assert!(!planned.is_unchanged());
        let record = tag_file(planned, &journal, "test").unwrap_or_else(|e| panic!("tagging: {e}"));
        let tagged = std::fs::read(path).unwrap();
        assert!(&tagged != original, "{} unchanged", path.display());
        let format = format_of(&tagged).unwrap();
        assert_eq!(audio_digest(format, &tagged), audio_digest(format, original), "{}", path.display());
        assert_eq!(record.after.sha256, genreid_tagging::Digest::of(&tagged).sha256);

        // Read back through a fresh plan: nothing left to change (idempotent).
        let again = plan_file(path, &edits("Metal", Mode::Replace)).unwrap();
        assert!(again.is_unchanged(), "{}: {:?}", path.display(), again.changes);
        assert_eq!(again.changes[0].old, vec!["Metal".to_string()]);
        assert_eq!(again.changes[1].old, vec!["0.8125".to_string()]);
        // The journal's delta is small: the tags, not the audio.
        assert!(
            record.delta.len() < original.len() / 4 + 8192,
            "{}: delta {} bytes",
            path.display(),
            record.delta.len()
        );
    }
    // Append adds a second genre; fill-empty leaves a filled field alone.
    let planned = plan_file(&copies[0], &edits("Rock", Mode::Append)).unwrap();
    assert_eq!(planned.changes[0].new, Some(vec!["Metal".to_string(), "Rock".to_string()]));
    tag_file(planned, &journal, "test").unwrap();
    assert_eq!(plan_file(&copies[0], &edits("Jazz", Mode::FillEmpty)).unwrap().changes[0].new, None);

    assert_eq!(read_journal(&journal_path).unwrap().len(), copies.len() + 1);
    let undone = undo_journal(&journal_path).unwrap();
    assert!(undone.iter().all(|(_, r)| matches!(r, Ok(UndoOutcome::Restored))), "{undone:?}");
    for (path, original) in copies.iter().zip(&originals) {
        assert!(&std::fs::read(path).unwrap() == original, "{} not restored", path.display());
    }
    // Undo again: nothing to do, nothing damaged.
    let again = undo_journal(&journal_path).unwrap();
    assert!(again.iter().all(|(_, r)| matches!(r, Ok(UndoOutcome::AlreadyOriginal))), "{again:?}");
}

#[test]
fn every_fixture_format_is_tagged_verified_and_undone() {
    tag_and_undo(&taggable_fixtures());
}

/// The library formats of `shared/fixtures/formats` that carry tags.
fn library_format_fixtures() -> Vec<PathBuf> {
    let dir = shared().join("fixtures/formats");
    ["aac_tagged.m4a", "aac.m4a", "alac.m4a", "opus.opus", "opus_tagged.opus", "aiff.aiff"]
        .iter()
        .map(|name| dir.join(name))
        .collect()
}

#[test]
fn library_formats_are_tagged_verified_and_undone() {
    tag_and_undo(&library_format_fixtures());
}

#[test]
fn a_persons_genre_and_cover_art_survive_in_m4a_and_opus() {
    use lofty::prelude::{Accessor, TaggedFileExt};
    let dir = tempfile::tempdir().unwrap();
    let formats = shared().join("fixtures/formats");
    let copies = copy_all(&[formats.join("aac_tagged.m4a"), formats.join("opus_tagged.opus")], dir.path());
    let (journal, _) = Journal::open(&dir.path().join("j.jsonl")).unwrap();
    for path in &copies {
        // fill-empty: the genre a person wrote stays.
        let planned = plan_file(path, &edits("Metal", Mode::FillEmpty)).unwrap();
        assert_eq!(planned.changes[0].old, vec!["Progressive Rock".to_string()], "{}", path.display());
        assert_eq!(planned.changes[0].new, None, "{}", path.display());
        // replace (asked for): the genre changes, the cover and the rest stay.
        let before = lofty::read_from_path(path).unwrap();
        tag_file(plan_file(path, &edits("Metal", Mode::Replace)).unwrap(), &journal, "t").unwrap();
        let after = lofty::read_from_path(path).unwrap();
        let (b, a) = (before.primary_tag().unwrap(), after.primary_tag().unwrap());
        assert_eq!(
            (a.title(), a.artist(), a.album()),
            (b.title(), b.artist(), b.album()),
            "{}",
            path.display()
        );
        assert_eq!(a.genre().as_deref(), Some("Metal"));
        assert_eq!(a.pictures(), b.pictures(), "{}: cover art", path.display());
    }
    let m4a_cover = lofty::read_from_path(&copies[0]).unwrap();
    assert_eq!(m4a_cover.primary_tag().unwrap().pictures().len(), 1, "the m4a's PNG cover");
}

#[test]
fn containers_without_a_tag_writer_are_refused_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let formats = shared().join("fixtures/formats");
    for (name, says) in
        [("caf.caf", "CAF"), ("flac.mka", "Matroska"), ("opus.webm", "Matroska"), ("wma.wma", "")]
    {
        // A writable copy: the shared fixtures are read-only.
        let copy = &copy_all(&[formats.join(name)], dir.path())[0];
        let err = plan_file(copy, &edits("Pop", Mode::Replace)).unwrap_err().to_string();
        assert!(err.contains(name) && err.contains("unsupported for tagging") && err.contains(says), "{err}");
    }
}

#[test]
fn fma_mp3s_are_tagged_verified_and_undone() {
    tag_and_undo(&fma_mp3s());
}

#[test]
fn existing_tags_survive_and_read_only_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let copies = copy_all(&fma_mp3s()[..3], dir.path());
    let (journal, _) = Journal::open(&dir.path().join("j.jsonl")).unwrap();
    // FMA's MP3s carry ID3v2 tags (title, artist, album...): all must survive.
    let before = lofty::read_from_path(&copies[0]).unwrap();
    let planned = plan_file(&copies[0], &edits("Pop", Mode::Replace)).unwrap();
    tag_file(planned, &journal, "t").unwrap();
    let after = lofty::read_from_path(&copies[0]).unwrap();
    use lofty::prelude::{Accessor, TaggedFileExt};
    let (b, a) = (before.primary_tag().unwrap(), after.primary_tag().unwrap());
    assert_eq!(a.title(), b.title());
    assert_eq!(a.artist(), b.artist());
    assert_eq!(a.album(), b.album());
    assert_eq!(a.genre().as_deref(), Some("Pop"));
    assert!(a.item_count() >= b.item_count());

    let mut permissions = std::fs::metadata(&copies[1]).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&copies[1], permissions).unwrap();
    let err = plan_file(&copies[1], &edits("Pop", Mode::Replace)).unwrap_err();
    assert!(err.to_string().contains("read-only"), "{err}");

    std::fs::write(&copies[2], b"not audio at all").unwrap();
    let err = plan_file(&copies[2], &edits("Pop", Mode::Replace)).unwrap_err();
    assert!(err.to_string().contains("unsupported") && err.to_string().contains("000"), "{err}");
}

/// Writes a tag with lofty itself, to build inputs genreid meets in the wild.
fn prepare_with<F: lofty::file::AudioFile>(path: &Path, edit: impl FnOnce(&mut F), id3v23: bool) {
    let mut file = std::fs::OpenOptions::new().read(true).write(true).open(path).unwrap();
    let mut parsed = F::read_from(&mut file, lofty::config::ParseOptions::new()).unwrap();
    edit(&mut parsed);
    use std::io::Seek;
    file.rewind().unwrap();
    parsed.save_to(&mut file, lofty::config::WriteOptions::new().use_id3v23(id3v23)).unwrap();
}

#[test]
fn id3v23_stays_23_and_riff_info_is_updated_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let audio = shared().join("fixtures/audio");
    let copies = copy_all(
        &[audio.join("asc_machine_wars_orig22k_cut.mp3"), audio.join("metal_muldjord_chaos_god.wav")],
        dir.path(),
    );
    let (journal, _) = Journal::open(&dir.path().join("j.jsonl")).unwrap();
    use lofty::prelude::Accessor;

    // An ID3v2.3 tag (what many older taggers write) with an artist.
    prepare_with::<lofty::mpeg::MpegFile>(
        &copies[0],
        |f| {
            let mut tag = lofty::id3::v2::Id3v2Tag::new();
            tag.set_artist("Someone".into());
            tag.set_genre("Electronic".into());
            f.set_id3v2(tag);
        },
        true,
    );
    assert_eq!(std::fs::read(&copies[0]).unwrap()[3], 3, "prepared as ID3v2.3");
    let planned = plan_file(&copies[0], &edits("Metal", Mode::Append)).unwrap();
    assert_eq!(planned.changes[0].old, vec!["Electronic".to_string()]);
    tag_file(planned, &journal, "t").unwrap();
    let bytes = std::fs::read(&copies[0]).unwrap();
    assert_eq!(bytes[3], 3, "still ID3v2.3");
    let again = plan_file(&copies[0], &edits("Metal", Mode::Append)).unwrap();
    assert!(again.is_unchanged(), "{:?}", again.changes);

    // A WAV with only RIFF INFO: the genre goes into IGNR.
    prepare_with::<lofty::iff::wav::WavFile>(
        &copies[1],
        |f| {
            let mut info = lofty::iff::wav::RiffInfoList::new();
            info.insert("IART".into(), "Muldjord".into());
            f.set_riff_info(info);
        },
        false,
    );
    let planned =
        plan_file(&copies[1], &[Edit { field: Field::Genre, value: "Metal".into(), mode: Mode::Replace }])
            .unwrap();
    tag_file(planned, &journal, "t").unwrap();
    let mut file = std::fs::File::open(&copies[1]).unwrap();
    let wav = <lofty::iff::wav::WavFile as lofty::file::AudioFile>::read_from(
        &mut file,
        lofty::config::ParseOptions::new(),
    )
    .unwrap();
    let info = wav.riff_info().expect("RIFF INFO kept");
    assert_eq!(info.get("IGNR"), Some("Metal"));
    assert_eq!(info.get("IART"), Some("Muldjord"));
    assert!(wav.id3v2().is_none(), "no second tag added beside RIFF INFO");
}

#[cfg(unix)]
#[test]
fn symlinks_are_followed_and_hard_links_refused() {
    let dir = tempfile::tempdir().unwrap();
    let copies = copy_all(&fma_mp3s()[..2], dir.path());
    let (journal, _) = Journal::open(&dir.path().join("j.jsonl")).unwrap();
    let link = dir.path().join("link.mp3");
    std::os::unix::fs::symlink(&copies[0], &link).unwrap();
    let planned = plan_file(&link, &edits("Jazz", Mode::Replace)).unwrap();
    assert_eq!(planned.path, std::fs::canonicalize(&copies[0]).unwrap());
    tag_file(planned, &journal, "t").unwrap();
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "link kept");
    assert!(plan_file(&copies[0], &edits("Jazz", Mode::Replace)).unwrap().is_unchanged());

    std::fs::hard_link(&copies[1], dir.path().join("second-name.mp3")).unwrap();
    let err = plan_file(&copies[1], &edits("Jazz", Mode::Replace)).unwrap_err();
    assert!(err.to_string().contains("hard links"), "{err}");
}

fn atom(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut v = u32::try_from(body.len() + 8).unwrap().to_be_bytes().to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(body);
    v
}

/// MP4 atoms: no AAC encoder is at hand, so the test builds the smallest
/// container lofty accepts (`ftyp`, `moov` with `mvhd`, `mdat` with stand-in
/// payload bytes) and checks the `ilst` path end to end: genre and a
/// freeform field written, `mdat` untouched, idempotent, undone exactly.
#[test]
fn mp4_ilst_is_written_verified_and_undone() {
    let dir = tempfile::tempdir().unwrap();
    let mut mvhd = vec![0u8; 100];
    mvhd[14..16].copy_from_slice(&1000u16.to_be_bytes()); // timescale
    let payload: Vec<u8> = (0..50_000u32).map(|i| (i * 31 % 251) as u8).collect();
    let original = [
        atom(b"ftyp", b"M4A \x00\x00\x02\x00M4A mp42isom"),
        atom(b"moov", &atom(b"mvhd", &mvhd)),
        atom(b"mdat", &payload),
    ]
    .concat();
    let path = dir.path().join("clip.m4a");
    std::fs::write(&path, &original).unwrap();
    let journal_path = dir.path().join("j.jsonl");
    let (journal, _) = Journal::open(&journal_path).unwrap();
    let record = tag_file(plan_file(&path, &edits("Jazz", Mode::Replace)).unwrap(), &journal, "t").unwrap();
    let tagged = std::fs::read(&path).unwrap();
    assert!(record.after.size > record.before.size);
    assert_eq!(format_of(&tagged).unwrap(), genreid_tagging::Format::Mp4);
    assert_eq!(
        audio_digest(genreid_tagging::Format::Mp4, &tagged),
        audio_digest(genreid_tagging::Format::Mp4, &original)
    );
    let again = plan_file(&path, &edits("Jazz", Mode::Replace)).unwrap();
    assert!(again.is_unchanged(), "{:?}", again.changes);
    assert_eq!(again.changes[1].old, vec!["0.8125".to_string()]);
    let undone = undo_journal(&journal_path).unwrap();
    assert!(matches!(undone[0].1, Ok(UndoOutcome::Restored)));
    assert!(std::fs::read(&path).unwrap() == original, "not restored");
}
