import { NextResponse, type NextRequest } from "next/server";

// Next 16 "proxy" (formerly middleware). It only passes the requested path to server components, so a
// signed-out visitor is sent to sign in and then back to the page they asked for. Authorization is not
// done here: it is in the tRPC middleware (server/trpc/init.ts).
export const PATHNAME_HEADER = "x-pathname";

export function proxy(req: NextRequest) {
  const headers = new Headers(req.headers);
  headers.set(PATHNAME_HEADER, req.nextUrl.pathname + req.nextUrl.search);
  return NextResponse.next({ request: { headers } });
}

export const config = { matcher: ["/dashboard/:path*", "/ops/:path*", "/no-access"] };
