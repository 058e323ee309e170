//! `deploylab images build|list|prune`.

use std::time::Instant;

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use crate::cli::ImagesAction;
use crate::docker;
use crate::environment;
use crate::error::{Result, exit};
use crate::images;
use crate::seam::Ctx;

/// Messages shown here, kept together for translation.
mod text {
    use crate::i18n::tr;

    pub(super) fn up_to_date(tag: &str) -> String {
        tr!("cmd-images-up-to-date", tag = tag)
    }

    pub(super) fn ready(seconds: f64) -> String {
        tr!("cmd-images-ready", seconds = format!("{seconds:.1}"))
    }

    pub(super) fn removed(count: usize) -> String {
        tr!("cmd-images-removed", count = count)
    }

    pub(super) fn packages_removed(files: usize, bytes: u64) -> String {
        tr!(
            "cmd-images-packages-removed",
            files = files,
            mb = bytes / 1_000_000
        )
    }
}

pub(super) async fn run(ctx: &Ctx<'_>, action: ImagesAction) -> Result<i32> {
    let docker = docker::connect().await?;
    let labs = ctx.catalog.all()?;
    let current = images::VmRecipe::for_labs(&labs).image(&ctx.home.cache);
    let current_tags = environment::current_images(&docker, &current).await;
    match action {
        // The VM image and every Python's base: what a lab builds on
        // needs nothing from the network afterwards.
        ImagesAction::Build => {
            let started = Instant::now();
            let built = async {
                let vm =
                    images::ensure_vm_image(&docker, &ctx.home.cache, &labs, ctx.progress).await?;
                let mut tags = Vec::new();
                for python in crate::pythons::ALL {
                    tags.push(
                        images::ensure_base(&docker, &vm, python, ctx.progress)
                            .await?
                            .tag,
                    );
                }
                Ok::<_, crate::error::Error>(tags)
            }
            .await;
            ctx.progress.finish();
            for tag in built? {
                println!("{}", text::up_to_date(&tag));
            }
            println!("{}", text::ready(started.elapsed().as_secs_f64()));
        }
        ImagesAction::List => {
            let mut table = Table::new();
            table.load_style(UTF8_FULL_CONDENSED);
            table.set_header(vec!["image", "kind", "size", "current"]);
            for row in images::list(&docker, &current_tags).await? {
                let current = if row.current { "✓" } else { "" };
                table.add_row(vec![
                    row.tag,
                    row.kind,
                    format!("{} MB", row.size_mb),
                    current.to_string(),
                ]);
            }
            println!("{table}");
        }
        ImagesAction::Prune { packages } => {
            // Spares hold images, and are only worth their memory while
            // the images stay.
            crate::spare::remove_all(&docker, ctx.home).await?;
            let keep = environment::kept_image_kinds();
            let mut needed = current_tags;
            needed.extend(environment::images_in_use(ctx.home));
            let removed = images::prune(&docker, &ctx.home.cache, &current, &needed, &keep).await?;
            println!("{}", text::removed(removed.len()));
            if packages {
                let (files, bytes) = crate::packages::clear_cache(&ctx.home.cache)?;
                println!("{}", text::packages_removed(files, bytes));
            }
        }
    }
    Ok(exit::OK)
}
