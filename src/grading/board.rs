//! The live view of a grading run: a line per submission on a terminal
//! (queued / starting / restoring / checking / points), plain lines in a
//! CI log, nothing with `--quiet`.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Phase;
use super::results::Graded;

/// Messages, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn line(id: &str, phase: &str) -> String {
        tr!("grade-board-line", id = id, phase = phase)
    }

    pub(super) fn finished(id: &str, points: u32, max: u32, error: Option<&str>) -> String {
        match error {
            Some(why) => format!("{id}: {points}/{max} ({why})"),
            None => format!("{id}: {points}/{max}"),
        }
    }
}

pub(crate) struct Board {
    bars: Option<Vec<ProgressBar>>,
    ids: Vec<String>,
    quiet: bool,
    _multi: Option<MultiProgress>,
}

impl Board {
    pub(crate) fn new(ids: &[String], quiet: bool) -> Board {
        let live = !quiet && std::io::stderr().is_terminal();
        let multi = live.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        let bars = multi.as_ref().map(|multi| {
            ids.iter()
                .map(|id| {
                    let bar = multi.add(ProgressBar::new_spinner());
                    bar.set_style(
                        ProgressStyle::with_template("{spinner} {elapsed:>4} {wide_msg}")
                            .expect("valid template"),
                    );
                    bar.set_message(text::line(id, Phase::Queued.word()));
                    bar
                })
                .collect()
        });
        Board {
            bars,
            ids: ids.to_vec(),
            quiet,
            _multi: multi,
        }
    }

    /// Submission `index` entered `phase`.
    pub(crate) fn set(&self, index: usize, phase: Phase) {
        let id = &self.ids[index];
        match &self.bars {
            Some(bars) => {
                let bar = &bars[index];
                if phase == Phase::Starting {
                    bar.reset_elapsed();
                    bar.enable_steady_tick(Duration::from_millis(120));
                }
                bar.set_message(text::line(id, phase.word()));
            }
            // In a log, the start of each submission and its result.
            None if !self.quiet && phase == Phase::Starting => {
                eprintln!("{}", text::line(id, phase.word()));
            }
            None => {}
        }
    }

    pub(crate) fn finished(&self, index: usize, graded: &Graded) {
        let line = text::finished(
            &graded.id,
            graded.points,
            graded.max_points,
            graded.error.as_deref(),
        );
        match &self.bars {
            Some(bars) => bars[index].finish_with_message(line),
            None if !self.quiet => eprintln!("{line}"),
            None => {}
        }
    }
}
