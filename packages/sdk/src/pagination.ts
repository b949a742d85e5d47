import { APIPromise, type WithResponse } from './api-promise.js';

/** A list answer of the API: a page of `items` and the cursor of the next one. */
export interface ListBody<Item> {
  items: Item[];
  nextCursor: string | null;
}

/** Fetches the page after `cursor` (undefined: the first). */
export type PageFetcher<Item, Extra> = (cursor: string | undefined) => Promise<WithResponse<ListBody<Item> & Extra>>;

/**
 * One page of a list: its `data` (also `items`), `nextCursor`, and the way to the next page. Members of the list
 * answer besides the items (`defaultModel` of the models) are on it too.
 */
export type Page<Item, Extra = unknown> = PageMethods<Item, Extra> & Omit<Extra, 'items' | 'nextCursor'>;

export interface PageMethods<Item, Extra = unknown> {
  /** The items of this page. */
  readonly data: Item[];
  /** The same as `data` (the wire name). */
  readonly items: Item[];
  /** The cursor of the next page; `null` on the last one. */
  readonly nextCursor: string | null;
  hasNextPage(): boolean;
  /** The next page; rejects on the last one (check `hasNextPage()`). */
  getNextPage(): PagePromise<Item, Extra>;
  /** Every item of this page and the pages after it, fetched as the loop goes. */
  [Symbol.asyncIterator](): AsyncGenerator<Item, void, undefined>;
}

function makePage<Item, Extra>(body: ListBody<Item> & Extra, fetchPage: PageFetcher<Item, Extra>): Page<Item, Extra> {
  const page = {
    ...body,
    data: body.items,
    items: body.items,
    nextCursor: body.nextCursor ?? null,
    hasNextPage: () => page.nextCursor !== null,
    getNextPage(): PagePromise<Item, Extra> {
      if (page.nextCursor === null) {
        return new PagePromise(Promise.reject(new Error('This is the last page: there is no next one.')), fetchPage);
      }
      return new PagePromise(fetchPage(page.nextCursor), fetchPage);
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<Item, void, undefined> {
      let current: PageMethods<Item, Extra> = page;
      for (;;) {
        yield* current.data;
        if (!current.hasNextPage()) return;
        current = await current.getNextPage();
      }
    },
  };
  return page as Page<Item, Extra>;
}

/**
 * What a list call returns: `await` it for the first page, or `for await` over it for every item across pages
 * (`for await (const room of client.chatrooms.list())`).
 */
export class PagePromise<Item, Extra = unknown> extends APIPromise<Page<Item, Extra>> implements AsyncIterable<Item> {
  constructor(first: Promise<WithResponse<ListBody<Item> & Extra>>, fetchPage: PageFetcher<Item, Extra>) {
    super(first.then((r) => ({ ...r, data: makePage(r.data, fetchPage) })));
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Item, void, undefined> {
    yield* await this;
  }
}

/** A list call: the first page now, the next ones through `cursor`. */
export function paginate<Item, Extra>(fetchPage: PageFetcher<Item, Extra>, cursor?: string): PagePromise<Item, Extra> {
  return new PagePromise(fetchPage(cursor), fetchPage);
}
