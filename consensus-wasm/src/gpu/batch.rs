//! Many epochs, one GPU submission per stage: the epochs run side by side on the CPU, and each
//! time they all wait on a kernel, their requests go to the device together.
//!
//! Every epoch is the unchanged [`epoch_terms_with`] flow, given a [`Queued`] backend whose
//! kernel calls only enqueue their input and wait for an answer. The driver polls every epoch
//! until each is finished or waiting, sends all waiting requests to the GPU (packed into chunks
//! of bounded size), posts the answers and polls again. An epoch waits at most twice (consensus,
//! then liquid alpha), so a batch of any size costs two rounds of submissions, and GPU memory
//! never holds more than one chunk whatever the batch or the subnet size.

use super::GpuError;
use crate::epoch::{EpochTerms, Kernels, LiquidAlpha, LiquidCells, MedianInput, epoch_terms_with};
use crate::fixed::I32F32;
use crate::input::EpochInput;
use crate::v103::{self, EpochInputV103, EpochOutputV103};
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// One epoch's consensus request: the columns of its weighted median.
pub struct MedianRequest {
    pub ticket: usize,
    pub input: MedianInput,
}

/// One epoch's liquid-alpha request: its parameters and its cells (consensus, weight, bond).
pub struct AlphaRequest {
    pub ticket: usize,
    pub params: LiquidAlpha,
    pub cells: Vec<(I32F32, I32F32, I32F32)>,
}

/// The requests the epochs are waiting on, and the answers not yet collected.
#[derive(Default)]
struct Queue {
    next_ticket: usize,
    medians: Vec<MedianRequest>,
    alphas: Vec<AlphaRequest>,
    answers: HashMap<usize, Vec<I32F32>>,
}

impl Queue {
    fn ticket(&mut self) -> usize {
        self.next_ticket += 1;
        self.next_ticket
    }
}

/// The backend each epoch of a batch runs on: its kernels wait for the driver.
struct Queued(Rc<RefCell<Queue>>);

impl Queued {
    /// Resolves once the driver has answered `ticket`.
    fn answer(&self, ticket: usize) -> impl Future<Output = Result<Vec<I32F32>, Stuck>> + use<> {
        let queue = self.0.clone();
        std::future::poll_fn(move |_| match queue.borrow_mut().answers.remove(&ticket) {
            Some(values) => Poll::Ready(Ok(values)),
            None => Poll::Pending,
        })
    }
}

/// Never produced: a queued kernel cannot fail, the driver's submission can (and ends the batch).
pub enum Stuck {}

impl Kernels for Queued {
    type Error = Stuck;

    fn consensus(
        &mut self,
        median: &MedianInput,
    ) -> impl Future<Output = Result<Vec<I32F32>, Stuck>> {
        let mut queue = self.0.borrow_mut();
        let ticket = queue.ticket();
        queue.medians.push(MedianRequest {
            ticket,
            input: median.clone(),
        });
        drop(queue);
        self.answer(ticket)
    }

    fn liquid_alphas(
        &mut self,
        params: &LiquidAlpha,
        cells: &LiquidCells,
    ) -> impl Future<Output = Result<Vec<I32F32>, Stuck>> {
        let mut queue = self.0.borrow_mut();
        let ticket = queue.ticket();
        queue.alphas.push(AlphaRequest {
            ticket,
            params: *params,
            cells: cells.inputs.clone(),
        });
        drop(queue);
        self.answer(ticket)
    }
}

/// What runs the queued requests: the GPU engine (or, in tests, anything that answers them).
pub trait Submit {
    /// The consensus of every column of every request, in request order, columns concatenated.
    fn medians(
        &mut self,
        requests: &[MedianRequest],
    ) -> impl Future<Output = Result<Vec<Vec<I32F32>>, GpuError>>;
    /// The alpha of every cell of every request, one vector per request.
    fn alphas(
        &mut self,
        requests: &[AlphaRequest],
    ) -> impl Future<Output = Result<Vec<Vec<I32F32>>, GpuError>>;
}

type EpochTask<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Runs every (validated) epoch of `inputs`, sending their kernel stages to `submit` together.
pub async fn run_batch<S: Submit>(
    inputs: &[&EpochInput],
    submit: &mut S,
) -> Result<Vec<EpochTerms>, GpuError> {
    let queue = Rc::new(RefCell::new(Queue::default()));
    let tasks: Vec<EpochTask<'_, EpochTerms>> = inputs
        .iter()
        .map(|&input| {
            let mut kernels = Queued(queue.clone());
            let task: EpochTask<'_, EpochTerms> = Box::pin(async move {
                match epoch_terms_with(input, &mut kernels).await {
                    Ok(terms) => terms,
                    Err(never) => match never {},
                }
            });
            task
        })
        .collect();
    drive(&queue, tasks, submit).await
}

/// Runs every (validated) spec-103 epoch of `inputs`, their consensus stages sent to `submit`
/// together (one round: spec 103 has no liquid alpha).
pub async fn run_batch_v103<S: Submit>(
    inputs: &[&EpochInputV103],
    submit: &mut S,
) -> Result<Vec<EpochOutputV103>, GpuError> {
    let queue = Rc::new(RefCell::new(Queue::default()));
    let tasks: Vec<EpochTask<'_, EpochOutputV103>> = inputs
        .iter()
        .map(|&input| {
            let mut kernels = Queued(queue.clone());
            let task: EpochTask<'_, EpochOutputV103> = Box::pin(async move {
                match v103::epoch_with(input, &mut kernels).await {
                    Ok(output) => output,
                    Err(never) => match never {},
                }
            });
            task
        })
        .collect();
    drive(&queue, tasks, submit).await
}

/// Polls `tasks` (which wait only on `queue`) until all are finished, answering what they
/// queued through `submit` each time they all wait.
async fn drive<T, S: Submit>(
    queue: &Rc<RefCell<Queue>>,
    mut tasks: Vec<EpochTask<'_, T>>,
    submit: &mut S,
) -> Result<Vec<T>, GpuError> {
    let mut finished: Vec<Option<T>> = tasks.iter().map(|_| None).collect();
    // The epochs only ever wait on the queue, which this loop fills: nothing needs waking.
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        let mut waiting = 0usize;
        for (task, slot) in tasks.iter_mut().zip(finished.iter_mut()) {
            if slot.is_none() {
                match task.as_mut().poll(&mut cx) {
                    Poll::Ready(terms) => *slot = Some(terms),
                    Poll::Pending => waiting += 1,
                }
            }
        }
        if waiting == 0 {
            break;
        }
        let (medians, alphas) = {
            let mut q = queue.borrow_mut();
            (
                std::mem::take(&mut q.medians),
                std::mem::take(&mut q.alphas),
            )
        };
        if medians.is_empty() && alphas.is_empty() {
            // Cannot happen while epochs only await their kernels; a loud error beats a hang.
            return Err(GpuError::Lost(format!(
                "{waiting} epochs are waiting with no kernel request queued"
            )));
        }
        let median_answers = if medians.is_empty() {
            Vec::new()
        } else {
            submit.medians(&medians).await?
        };
        let alpha_answers = if alphas.is_empty() {
            Vec::new()
        } else {
            submit.alphas(&alphas).await?
        };
        let mut q = queue.borrow_mut();
        let tickets = medians
            .iter()
            .map(|r| r.ticket)
            .chain(alphas.iter().map(|r| r.ticket));
        for (ticket, values) in tickets.zip(median_answers.into_iter().chain(alpha_answers)) {
            q.answers.insert(ticket, values);
        }
    }
    Ok(finished.into_iter().flatten().collect())
}

/// One piece of a chunk: `count` items of request `request`, starting at its item `first`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    pub request: usize,
    pub first: usize,
    pub count: usize,
}

/// Splits requests of items into chunks of at most `budget` bytes, in order: a request costs
/// `header` bytes in every chunk it appears in, and `item(r, i)` bytes per item. A chunk always
/// takes at least one item, so one item larger than the budget still runs (alone).
pub fn chunks(
    items_per_request: &[usize],
    header: impl Fn(usize) -> usize,
    item: impl Fn(usize, usize) -> usize,
    budget: usize,
) -> Vec<Vec<Piece>> {
    let mut chunks = Vec::new();
    let mut current: Vec<Piece> = Vec::new();
    let mut used = 0usize;
    for (request, &items) in items_per_request.iter().enumerate() {
        let mut i = 0usize;
        while i < items {
            let head = header(request);
            if !current.is_empty() && used + head + item(request, i) > budget {
                chunks.push(std::mem::take(&mut current));
                used = 0;
            }
            used += head;
            let first = i;
            loop {
                let cost = item(request, i);
                if i > first && used + cost > budget {
                    break;
                }
                used += cost;
                i += 1;
                if i == items {
                    break;
                }
            }
            current.push(Piece {
                request,
                first,
                count: i - first,
            });
            if i < items {
                chunks.push(std::mem::take(&mut current));
                used = 0;
            }
        }
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::{Piece, chunks};

    #[test]
    fn chunks_cover_every_item_once_within_the_budget() {
        let sizes = [3usize, 0, 10, 1, 7];
        for budget in [1usize, 5, 17, 40, 1000] {
            let plan = chunks(&sizes, |_| 2, |_, _| 3, budget);
            let mut seen: Vec<(usize, usize)> = Vec::new();
            for chunk in &plan {
                assert!(!chunk.is_empty());
                let items: usize = chunk.iter().map(|p| p.count).sum();
                let cost: usize = chunk.iter().map(|p| 2 + 3 * p.count).sum();
                assert!(
                    cost <= budget || items == 1,
                    "budget {budget}: chunk {chunk:?} costs {cost}"
                );
                for p in chunk {
                    seen.extend((p.first..p.first + p.count).map(|i| (p.request, i)));
                }
            }
            let expected: Vec<(usize, usize)> = sizes
                .iter()
                .enumerate()
                .flat_map(|(r, &n)| (0..n).map(move |i| (r, i)))
                .collect();
            assert_eq!(seen, expected, "budget {budget}");
        }
        assert_eq!(
            chunks(&[2, 2], |_| 0, |_, _| 1, 100),
            vec![vec![
                Piece {
                    request: 0,
                    first: 0,
                    count: 2
                },
                Piece {
                    request: 1,
                    first: 0,
                    count: 2
                }
            ]]
        );
    }
}
